"""Sphinx extension: the gallery of ``models/`` in the manner of Brian2's examples.

Before the build reads the sources, one page per script is written to
``docs/gallery/`` (generated, not kept in git): the script's name as the title, its
docstring, the figure it draws (``figures/out/<name>.png``, the name its ``save(...)``
call gives) when it has been run, otherwise the command that draws it, and the whole
script.
"""
import ast
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = os.path.join(ROOT, "models")
GALLERY = os.path.join(ROOT, "docs", "gallery")


#: Calls that save a script's figure, and the argument that names it.
FIGURE_CALLS = {"save": "stem", "plot_curves": "stem"}


def figure_name(tree):
    """The last string of the path given to the script's ``save(fig, ...)`` or
    ``plot_curves(..., stem=...)`` call: the figure's file name without extension (None
    when the script saves no figure)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in FIGURE_CALLS:
            keyword = FIGURE_CALLS[node.func.id]
            path = next((k.value for k in node.keywords if k.arg == keyword),
                        node.args[-1] if node.args else None)
            strings = [n.value for n in ast.walk(path)
                       if isinstance(n, ast.Constant) and isinstance(n.value, str)] if path else []
            return strings[-1] if strings else None
    return None


def model_page(script):
    """The reStructuredText page of one model script."""
    name = os.path.splitext(os.path.basename(script))[0]
    source = open(script).read()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or ""
    title = f"{name}.py"
    lines = [title, "=" * len(title), "", "::", ""]
    lines += [("    " + line).rstrip() for line in doc.strip().splitlines()] + [""]
    lines += [f"Run: ``python models/{name}.py`` (from the repository's root).", ""]
    figure = figure_name(tree)
    if figure:
        png = os.path.join(ROOT, "figures", "out", figure + ".png")
        if os.path.exists(png):
            lines += [f".. image:: /../figures/out/{figure}.png", f"   :alt: {name}", ""]
        else:
            lines += [f"The script draws ``figures/out/{figure}.png`` and ``.pdf``; this build "
                      "ran before it was run, so the figure is not shown here.", ""]
    lines += [f".. literalinclude:: /../models/{name}.py", "   :language: python", ""]
    return name, "\n".join(lines)


def write_gallery(app=None):
    """Write ``docs/gallery/index.rst`` and one page per script of ``models/``."""
    os.makedirs(GALLERY, exist_ok=True)
    scripts = sorted(f for f in os.listdir(MODELS) if f.endswith(".py"))
    names = []
    for script in scripts:
        name, page = model_page(os.path.join(MODELS, script))
        names.append(name)
        _write_if_changed(os.path.join(GALLERY, name + ".rst"), page)
    index = ["Gallery of models", "=================", "",
             "The runnable model definitions of ``models/``: what each one shows, its figure, "
             "and the script.", "", ".. toctree::", "   :maxdepth: 1", ""]
    index += [f"   {name}" for name in names]
    _write_if_changed(os.path.join(GALLERY, "index.rst"), "\n".join(index) + "\n")


def _write_if_changed(path, text):
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)


def setup(app):
    app.connect("builder-inited", write_gallery)
    return {"parallel_read_safe": True, "version": "1"}

"""Static checks of the bundled addon (what pylint-odoo and module install would catch first)."""

import ast
import csv
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest

from odoo.models import REGISTRY

ADDONS_DIR = pathlib.Path(__file__).resolve().parents[1]
ADDON = ADDONS_DIR / "odoo_companion"
MODULE = ADDON.name
ACCESS_HEADER = "id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink"


def manifest():
    return ast.literal_eval((ADDON / "__manifest__.py").read_text(encoding="utf-8"))


def python_files():
    return sorted(p for p in ADDONS_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def xml_files():
    return sorted(ADDON.rglob("*.xml"))


def addon_models():
    """{model name: is_abstract} for every class in the addon that declares ``_name`` (read from the AST)."""
    found = {}
    for path in sorted((ADDON / "models").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {ast.unparse(base) for base in node.bases}
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "_name" for t in stmt.targets)
                    and isinstance(stmt.value, ast.Constant)
                ):
                    found[stmt.value.value] = "models.AbstractModel" in bases
    return found


# -- manifest ------------------------------------------------------------------------------
def test_manifest_keys():
    m = manifest()
    assert m["name"]
    assert m["version"] == "17.0.1.1.0"
    assert re.fullmatch(r"17\.0\.\d+\.\d+\.\d+", m["version"])
    assert m["summary"]
    assert m["author"] == "odoo-companion"
    assert m["license"] == "LGPL-3"
    assert m["category"]
    assert m["depends"] == ["base"]
    assert m["external_dependencies"] == {"python": ["requests"]}
    assert m["installable"] is True
    assert m["application"] is True


def test_manifest_data_files_exist_and_are_ordered():
    data = manifest()["data"]
    missing = [f for f in data if not (ADDON / f).is_file()]
    assert missing == []
    assert len(set(data)) == len(data)
    # security first, then data, then views, menus last (later files use earlier XML ids)
    kinds = [f.split("/")[0] for f in data]
    order = {"security": 0, "data": 1, "views": 2}
    assert kinds == sorted(kinds, key=order.__getitem__)
    assert data[0] == "security/ir.model.access.csv"
    assert "menu" in data[-1]
    # every XML / CSV file of the addon is loaded (nothing forgotten)
    on_disk = {str(p.relative_to(ADDON)) for p in list(ADDON.glob("views/*.xml")) + list(ADDON.glob("data/*.xml"))}
    on_disk |= {str(p.relative_to(ADDON)) for p in ADDON.glob("security/*")}
    assert on_disk <= set(data)


def test_readme_fragments_exist():
    for name in ("DESCRIPTION.md", "CONFIGURE.md", "USAGE.md"):
        assert (ADDON / "readme" / name).read_text(encoding="utf-8").strip()


# -- python --------------------------------------------------------------------------------
@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ADDONS_DIR)))
def test_python_file_compiles(path):
    compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_every_requests_call_has_a_timeout():
    """pylint-odoo E8106 external-request-timeout, as an AST check."""
    offenders = []
    for path in sorted((ADDON).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                target = ast.unparse(node.func)
                if re.search(r"(requests|session)\.(get|post|put|patch|delete|head|request)$", target):
                    if not any(k.arg == "timeout" for k in node.keywords):
                        offenders.append("%s:%s %s" % (path.name, node.lineno, target))
    assert offenders == []


def test_addon_models_are_registered():
    for name in addon_models():
        assert name in REGISTRY, name
    assert "companion_url" in REGISTRY["res.config.settings"]._get_fields()


# -- security ------------------------------------------------------------------------------
def test_access_csv_header_and_lines():
    path = ADDON / "security" / "ir.model.access.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ACCESS_HEADER
    rows = list(csv.DictReader(lines))
    assert rows and all(len(r) == 8 and None not in r for r in rows)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        assert row["model_id:id"].startswith("model_")
        assert all(row[p] in ("0", "1") for p in ("perm_read", "perm_write", "perm_create", "perm_unlink"))
    covered = {r["model_id:id"] for r in rows}
    models_with_table = {name for name, abstract in addon_models().items() if not abstract}
    assert models_with_table == {
        "companion.project", "companion.phase", "companion.elevation", "companion.sync.run", "companion.fiscal.receipt",
    }
    expected = {"model_" + name.replace(".", "_") for name in models_with_table}
    assert expected - covered == set(), "models without an access line"
    assert covered - expected == set(), "access lines for unknown models"


# -- XML -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", xml_files(), ids=lambda p: str(p.relative_to(ADDON)))
def test_xml_is_well_formed(path):
    root = ET.parse(path).getroot()
    assert root.tag == "odoo"


REF_PATTERNS = [re.compile(r"%\(([\w.]+)\)d"), re.compile(r"ref\(\s*'([\w.]+)'\s*\)")]


def _refs(element):
    """XML ids an element refers to."""
    refs = []
    if element.tag == "field" and element.get("ref"):
        refs.append(element.get("ref"))
    if element.tag == "menuitem":
        refs += [element.get(a) for a in ("parent", "action") if element.get(a)]
    for value in element.attrib.values():
        for pattern in REF_PATTERNS:
            refs += pattern.findall(value)
    return refs


def test_xml_ids_are_defined_before_use():
    defined = set()
    known_models = {"model_" + name.replace(".", "_") for name in addon_models()}
    for rel in [f for f in manifest()["data"] if f.endswith(".xml")]:
        for element in ET.parse(ADDON / rel).getroot().iter():
            for ref in _refs(element):
                module, _, name = ref.rpartition(".")
                if module and module != MODULE:
                    assert module == "base", "%s: unexpected dependency %s" % (rel, ref)
                    continue
                assert name in defined or name in known_models, "%s uses %s before it is defined" % (rel, ref)
            if element.tag in ("record", "menuitem", "template") and element.get("id"):
                assert element.get("id") not in defined, "duplicate id %s" % element.get("id")
                defined.add(element.get("id"))


def _views():
    for rel in [f for f in manifest()["data"] if f.startswith("views/")]:
        for record in ET.parse(ADDON / rel).getroot().iter("record"):
            if record.get("model") != "ir.ui.view":
                continue
            model = record.find("field[@name='model']").text
            arch = record.find("field[@name='arch']")
            yield rel, record.get("id"), model, arch


def _check_arch(element, model_name, problems, where):
    cls = REGISTRY[model_name]
    fields_ = cls._get_fields()
    for child in element:
        if child.tag == "field":
            name = child.get("name")
            if name not in fields_:
                problems.append("%s: %s has no field %s" % (where, model_name, name))
                continue
            comodel = getattr(fields_[name], "comodel_name", None)
            if len(child) and comodel:
                _check_arch(child, comodel, problems, where)
                continue
        elif child.tag == "label" and child.get("for") and child.get("for") not in fields_:
            problems.append("%s: label for unknown field %s" % (where, child.get("for")))
        elif child.tag == "button" and child.get("type") == "object":
            if not callable(getattr(cls, child.get("name"), None)):
                problems.append("%s: %s has no method %s" % (where, model_name, child.get("name")))
        _check_arch(child, model_name, problems, where)


def test_views_name_existing_fields_and_methods():
    problems = []
    seen = 0
    for rel, xml_id, model, arch in _views():
        assert model in REGISTRY, "%s: unknown model %s" % (xml_id, model)
        _check_arch(arch, model, problems, "%s/%s" % (rel, xml_id))
        seen += 1
    assert seen >= 12
    assert problems == []


MODIFIER_WORDS = {"not", "and", "or", "in", "True", "False", "None", "id", "context", "parent", "uid"}


def _view_level_fields(element, found):
    """Field names of one view level (not descending into x2many sub-views)."""
    for child in element:
        if child.tag == "field":
            found.add(child.get("name"))
            if len(child):
                continue
        _view_level_fields(child, found)
    return found


def test_fields_used_in_modifiers_are_in_the_view():
    """Odoo 17 evaluates invisible/readonly/decoration expressions on the client: their fields must be loaded."""
    problems = []
    for rel, xml_id, _model, arch in _views():
        for view in arch:
            if view.tag not in ("form", "tree"):
                continue
            present = _view_level_fields(view, set())
            for element in view.iter():
                for attr, value in element.attrib.items():
                    if attr in ("invisible", "readonly", "required", "column_invisible") or attr.startswith("decoration-"):
                        if value in ("1", "0", "True", "False"):
                            continue
                        names = set(re.findall(r"[A-Za-z_]\w*", re.sub(r"'[^']*'", "", value))) - MODIFIER_WORDS
                        problems += ["%s: %s=%r needs field %s" % (xml_id, attr, value, n) for n in names - present]
    assert problems == []


def test_views_target_odoo_17():
    for rel, xml_id, _model, arch in _views():
        text = ET.tostring(arch, encoding="unicode")
        assert "attrs=" not in text and "states=" not in text, "%s: attrs/states were removed in Odoo 17" % xml_id
        assert "<list" not in text, "%s: <list> is Odoo 18; this addon targets 17 (<tree>)" % xml_id


def test_api_key_uses_password_widget():
    root = ET.parse(ADDON / "views" / "res_config_settings_views.xml").getroot()
    key_fields = [f for f in root.iter("field") if f.get("name") == "companion_api_key"]
    assert key_fields and all(f.get("password") == "True" for f in key_fields)
    assert root.find(".//button[@name='action_companion_test_connection']") is not None


def test_settings_fields_use_config_parameters():
    fields_ = REGISTRY["res.config.settings"]._get_fields()
    assert fields_["companion_url"].config_parameter == "odoo_companion.url"
    assert fields_["companion_api_key"].config_parameter == "odoo_companion.api_key"
    assert fields_["companion_timeout"].config_parameter == "odoo_companion.timeout"

"""The addon's button logic against the REAL middleware, with the odoo stub's in-memory env."""

import datetime
import socket

import pytest

from odoo.exceptions import UserError, ValidationError
from odoo_companion.models import companion_client
from odoo_companion.models.companion_project import NULL_GUID, companion_datetime, glass_text


def snapshot(env):
    """Every mirrored record as comparable tuples (ids included)."""
    return {
        "projects": sorted((p.id, p.guid, p.name) for p in env["companion.project"].search([])),
        "phases": sorted((p.id, p.project_id.id, p.logikal_id) for p in env["companion.phase"].search([])),
        "elevations": sorted((e.id, e.guid, e.phase_id.id) for e in env["companion.elevation"].search([])),
    }


def test_companion_datetime_and_glass_helpers():
    assert companion_datetime("2024-03-26T14:24:20.000Z") == datetime.datetime(2024, 3, 26, 14, 24, 20)
    assert companion_datetime("2024-03-26T16:24:20+02:00") == datetime.datetime(2024, 3, 26, 14, 24, 20)
    assert companion_datetime(None) is False
    assert companion_datetime("yesterday") is False
    assert glass_text([{"glass_id": "GL1", "name": "4/16/4"}, {"glass_id": "GL2", "name": None}]) == "GL1 4/16/4\nGL2"
    assert glass_text([]) is False


def test_phase_key_is_project_and_logikal_id(env):
    """The mirror's unique keys (enforced by the stub like PostgreSQL would)."""
    Project, Phase = env["companion.project"], env["companion.phase"]
    a = Project.create({"guid": "a", "name": "A"})
    b = Project.create({"guid": "b", "name": "B"})
    Phase.create({"project_id": a.id, "logikal_id": NULL_GUID, "name": "Default"})
    Phase.create({"project_id": b.id, "logikal_id": NULL_GUID, "name": "Default"})
    with pytest.raises(ValidationError):
        Phase.create({"project_id": a.id, "logikal_id": NULL_GUID, "name": "Default again"})
    with pytest.raises(ValidationError):
        Project.create({"guid": "a", "name": "A again"})


def test_import_mirrors_projects_phases_and_elevations(configured_env):
    env = configured_env
    action = env["companion.project"].action_import_from_companion()
    assert action["tag"] == "display_notification"
    stats = action["params"]["stats"]
    assert stats["projects_created"] == 2
    assert stats["phases_created"] == 3
    assert stats["elevations_created"] == 20

    projects = env["companion.project"].search([])
    assert sorted(projects.mapped("name")) == ["DOS22309", "DOS22410"]

    dos = env["companion.project"].search([("name", "=", "DOS22309")])
    assert len(dos) == 1
    assert dos.phase_count == 2
    assert dos.elevation_count == 17
    assert dos.directory_path == "Demo Odoo"
    assert dos.job_number and dos.person_in_charge
    assert isinstance(dos.changed_date, datetime.datetime)
    assert sum(len(p.elevation_ids) for p in dos.phase_ids) == 17

    # The null-GUID default phase exists in BOTH projects and stays two separate records.
    defaults = env["companion.phase"].search([("logikal_id", "=", NULL_GUID)])
    assert len(defaults) == 2
    assert len(set(defaults.mapped("project_id").ids)) == 2
    assert all(defaults.mapped("is_default"))
    for project in projects:
        default = defaults.filtered(lambda p, project=project: p.project_id == project)
        assert len(default) == 1
        # each default phase holds only its own project's elevations
        assert all(e.project_id == project for e in default.elevation_ids)
    archive = env["companion.project"].search([("name", "=", "DOS22410")])
    assert archive.phase_count == 1 and archive.elevation_count == 3

    elevations = env["companion.elevation"].search([("project_id", "=", dos.id)])
    assert len(elevations) == 17
    for elevation in elevations:
        assert elevation.guid and elevation.name
        assert elevation.system_name
        assert elevation.width > 0 and elevation.height > 0
        assert elevation.glass and len(elevation.glass.splitlines()) == 2  # two glass build-ups per elevation
        assert elevation.parse_status == "success"
        assert elevation.project_id == elevation.phase_id.project_id


def test_reimport_creates_no_duplicates(configured_env):
    env = configured_env
    Project = env["companion.project"]
    Project.action_import_from_companion()
    before = snapshot(env)
    action = Project.action_import_from_companion()
    stats = action["params"]["stats"]
    assert stats["projects_created"] == stats["phases_created"] == stats["elevations_created"] == 0
    assert (stats["projects_updated"], stats["phases_updated"], stats["elevations_updated"]) == (2, 3, 20)
    assert stats["phases_removed"] == stats["elevations_removed"] == 0
    assert snapshot(env) == before
    assert (len(before["projects"]), len(before["phases"]), len(before["elevations"])) == (2, 3, 20)


def test_import_follows_next_cursor(configured_env, monkeypatch):
    calls = []
    original = companion_client.CompanionClient.call

    def recording_call(self, method, params=None):
        calls.append((method, params))
        return original(self, method, params)

    monkeypatch.setattr(companion_client.CompanionClient, "call", recording_call)
    env = configured_env
    env["companion.project"].with_context(companion_page_size=1).action_import_from_companion()
    list_calls = [params for method, params in calls if method == "projects.list"]
    assert len(list_calls) >= 2
    assert list_calls[0] == {"first": 1}
    assert all("after" in params for params in list_calls[1:])
    get_guids = [params["guid"] for method, params in calls if method == "projects.get"]
    assert sorted(get_guids) == sorted(env["companion.project"].search([]).mapped("guid"))
    assert env["companion.project"].search_count([]) == 2


def test_refresh_single_project_and_mirror_removals(configured_env):
    env = configured_env
    Project = env["companion.project"]
    Project.action_import_from_companion()
    dos = Project.search([("name", "=", "DOS22309")])
    client = env["companion.client"]._get_companion_client()
    detail = client.call("projects.get", {"guid": dos.guid, "with_parts": True})

    # An elevation that disappeared in the middleware disappears from the mirror.
    gone = detail["phases"][0]["elevations"].pop()
    stats = Project._companion_new_stats()
    Project._companion_upsert_project(detail, stats)
    assert stats["elevations_removed"] == 1 and stats["elevations_created"] == 0
    assert not env["companion.elevation"].search([("guid", "=", gone["guid"])])
    assert dos.elevation_count == 16

    # The project's refresh button brings it back, without touching the other project.
    other_before = snapshot(env)["phases"]
    dos.action_refresh_from_companion()
    assert dos.elevation_count == 17
    assert snapshot(env)["phases"] == other_before


def test_import_without_configuration_is_a_user_error(env):
    with pytest.raises(UserError, match="not configured"):
        env["companion.project"].action_import_from_companion()


def test_import_with_a_bad_key_is_a_user_error(configured_env):
    configured_env["ir.config_parameter"].set_param("odoo_companion.api_key", "oc_0000000000_wrong")
    with pytest.raises(UserError, match="refused the API key"):
        configured_env["companion.project"].action_import_from_companion()
    assert configured_env["companion.project"].search_count([]) == 0


def test_settings_test_connection(env, companion_url, companion_api_key):
    expected = len(companion_client.CompanionClient(companion_url, companion_api_key).call("rpc.discover")["methods"])
    settings = env["res.config.settings"].create(
        {"companion_url": companion_url, "companion_api_key": companion_api_key, "companion_timeout": 10}
    )
    action = settings.action_companion_test_connection()
    assert action["type"] == "ir.actions.client" and action["tag"] == "display_notification"
    assert action["params"]["type"] == "success"
    assert "%d methods" % expected in action["params"]["message"]
    assert companion_api_key not in repr(action)

    # saving writes the system parameters the other buttons read
    settings.execute()
    params = env["ir.config_parameter"]
    assert params.get_param("odoo_companion.url") == companion_url
    assert params.get_param("odoo_companion.api_key") == companion_api_key
    assert params.get_param("odoo_companion.timeout") == "10"


def test_settings_test_connection_errors(env, companion_url):
    bad_key = env["res.config.settings"].create({"companion_url": companion_url, "companion_api_key": "oc_nope"})
    with pytest.raises(UserError, match="refused the API key"):
        bad_key.action_companion_test_connection()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    down = env["res.config.settings"].create(
        {"companion_url": "http://127.0.0.1:%d" % closed_port, "companion_api_key": "x", "companion_timeout": 2}
    )
    with pytest.raises(UserError, match="unavailable"):
        down.action_companion_test_connection()


def test_client_model_maps_invalid_params_to_user_error(configured_env):
    with pytest.raises(UserError, match=r"bogus: unknown parameter"):
        configured_env["companion.client"]._companion_call("projects.get", {"bogus": 1})


def test_client_model_timeout_setting(env):
    model = env["companion.client"]
    assert model._companion_timeout("30") == (5.0, 30.0)
    assert model._companion_timeout("2") == (2.0, 2.0)
    assert model._companion_timeout("") == (5.0, 30.0)
    assert model._companion_timeout("junk") == (5.0, 30.0)


def env_status(env, run_id):
    """sync.status straight from the middleware, to compare the mirror with."""
    return env["companion.client"]._get_companion_client().call("sync.status", {"run_id": run_id})


def test_sync_run_refresh_polls_sync_status(configured_env):
    Run = configured_env["companion.sync.run"]
    run = Run.create({"run_id": 1})
    assert run.action_refresh() is True
    assert run.status == "succeeded"
    assert run.is_final
    assert run.kind == "logikal.project"
    assert run.target == "Demo Odoo/DOS22309"
    assert "elevations_synced: 17" in run.counters.splitlines()
    assert run.done == 17 and run.total == 17
    status = env_status(configured_env, 1)
    assert run.last_step == (status["last_step"] or False)
    assert run.polled_at
    assert run.display_name == "Run 1 Demo Odoo/DOS22309"

    missing = Run.create({"run_id": 999999})
    with pytest.raises(UserError, match="999999"):
        Run.browse([run.id, missing.id]).action_refresh()


def test_sync_run_fetch_recent_and_cancel_needs_sync_scope(configured_env, companion_readonly_key):
    env = configured_env
    Run = env["companion.sync.run"]
    Run.action_fetch_recent_runs()
    run = Run.search([("run_id", "=", 1)])
    assert len(run) == 1 and run.status == "succeeded"
    run.action_refresh()
    polled_step = env_status(env, 1)["last_step"] or False
    assert run.last_step == polled_step
    Run.action_fetch_recent_runs()  # a null last_step in sync.list does not erase the polled one
    assert Run.search_count([("run_id", "=", 1)]) == 1
    assert run.last_step == polled_step

    env["ir.config_parameter"].set_param("odoo_companion.api_key", companion_readonly_key)
    with pytest.raises(UserError, match="lacks the permission"):
        run.action_cancel()
    run.action_refresh()  # the read scope is enough to poll
    assert run.status == "succeeded"

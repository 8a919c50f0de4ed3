"""Read-only mirrors of the middleware's Logikal projects, phases and elevations.

Keys (the same ones the middleware uses):
* project: ``guid`` (Logikal project GUID);
* phase: ``(project_id, logikal_id)``. Logikal gives every project's default phase the null
  GUID 00000000-0000-0000-0000-000000000000, so a phase id alone is NOT unique;
* elevation: ``guid``.
"""

import datetime
import logging

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)

NULL_GUID = "00000000-0000-0000-0000-000000000000"
DEFAULT_PAGE_SIZE = 100
PARSE_STATUSES = [
    ("pending", "Pending"),
    ("success", "Parsed"),
    ("failed", "Failed"),
    ("unknown", "Unknown"),
]


def companion_datetime(value):
    """ISO-8601 from the middleware ("2024-03-26T14:24:20.000Z") -> naive UTC datetime (Odoo's convention)."""
    if not value or not isinstance(value, str):
        return False
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _logger.warning("companion: ignoring unparsable timestamp %r", value)
        return False
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def glass_text(glass):
    """The elevation's glass list as one line per pane: "<glass_id> <name>"."""
    lines = []
    for pane in glass or []:
        line = " ".join(part for part in (pane.get("glass_id"), pane.get("name")) if part)
        if line:
            lines.append(line)
    return "\n".join(lines) or False


class CompanionProject(models.Model):
    _name = "companion.project"
    _description = "Logikal project (companion mirror)"
    _order = "name, id"

    name = fields.Char(required=True, readonly=True)
    guid = fields.Char(string="Logikal GUID", required=True, readonly=True, index=True, copy=False)
    companion_id = fields.Integer(string="Middleware ID", readonly=True)
    directory_path = fields.Char(string="Logikal directory", readonly=True)
    job_number = fields.Char(readonly=True)
    offer_number = fields.Char(readonly=True)
    person_in_charge = fields.Char(readonly=True)
    created_date = fields.Datetime(string="Created in Logikal", readonly=True)
    changed_date = fields.Datetime(string="Changed in Logikal", readonly=True)
    synced_at = fields.Datetime(string="Synced by middleware", readonly=True)
    imported_at = fields.Datetime(string="Imported into Odoo", readonly=True)
    phase_ids = fields.One2many("companion.phase", "project_id", string="Phases", readonly=True)
    elevation_ids = fields.One2many("companion.elevation", "project_id", string="Elevations", readonly=True)
    phase_count = fields.Integer(compute="_compute_counts")
    elevation_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        ("guid_uniq", "unique(guid)", "A Logikal project is mirrored only once."),
    ]

    @api.depends("phase_ids", "elevation_ids")
    def _compute_counts(self):
        for project in self:
            project.phase_count = len(project.phase_ids)
            project.elevation_count = len(project.elevation_ids)

    # -- import ------------------------------------------------------------------------------
    @api.model
    def action_import_from_companion(self):
        """Mirrors every project of the middleware: projects.list (all pages), then projects.get each."""
        client_model = self.env["companion.client"]
        stats = self._companion_new_stats()
        with client_model._get_companion_client() as client:
            summaries = self._companion_list_projects(client)
            for summary in summaries:
                detail = client_model._companion_call(
                    "projects.get", {"guid": summary["guid"], "with_parts": True}, client=client
                )
                self._companion_upsert_project(detail, stats)
        _logger.info("companion import: %s", stats)
        return self._companion_notification(stats)

    def action_refresh_from_companion(self):
        """Re-imports the selected projects only."""
        client_model = self.env["companion.client"]
        stats = self._companion_new_stats()
        with client_model._get_companion_client() as client:
            for project in self:
                detail = client_model._companion_call(
                    "projects.get", {"guid": project.guid, "with_parts": True}, client=client
                )
                self._companion_upsert_project(detail, stats)
        return self._companion_notification(stats)

    @api.model
    def _companion_list_projects(self, client):
        client_model = self.env["companion.client"]
        page_size = int(self.env.context.get("companion_page_size") or DEFAULT_PAGE_SIZE)
        summaries, cursor, seen_cursors = [], None, set()
        while True:
            params = {"first": page_size}
            if cursor:
                params["after"] = cursor
            page = client_model._companion_call("projects.list", params, client=client)
            summaries.extend(page.get("items") or [])
            cursor = page.get("next_cursor")
            if not cursor or cursor in seen_cursors:
                break
            seen_cursors.add(cursor)
        return summaries

    @api.model
    def _companion_new_stats(self):
        return {key: 0 for key in (
            "projects_created", "projects_updated", "phases_created", "phases_updated", "phases_removed",
            "elevations_created", "elevations_updated", "elevations_removed",
        )}

    @api.model
    def _companion_notification(self, stats):
        message = _(
            "%(projects)s projects (%(pc)s new), %(phases)s phases (%(phc)s new), "
            "%(elevations)s elevations (%(ec)s new) imported.",
            projects=stats["projects_created"] + stats["projects_updated"],
            pc=stats["projects_created"],
            phases=stats["phases_created"] + stats["phases_updated"],
            phc=stats["phases_created"],
            elevations=stats["elevations_created"] + stats["elevations_updated"],
            ec=stats["elevations_created"],
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Import from companion"),
                "message": message,
                "type": "success",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
                "stats": stats,
            },
        }

    @api.model
    def _companion_upsert(self, model_name, domain, vals, stats, stat_prefix):
        model = self.env[model_name]
        record = model.search(domain, limit=1)
        if record:
            record.write(vals)
            stats[stat_prefix + "_updated"] += 1
        else:
            record = model.create(vals)
            stats[stat_prefix + "_created"] += 1
        return record

    @api.model
    def _companion_upsert_project(self, data, stats):
        """Upserts one projects.get result (project + phases + elevations); returns the project."""
        project = self._companion_upsert(
            "companion.project",
            [("guid", "=", data["guid"])],
            {
                "guid": data["guid"],
                "name": data.get("name") or data["guid"],
                "companion_id": data.get("id") or 0,
                "directory_path": data.get("directory_path") or False,
                "job_number": data.get("job_number") or False,
                "offer_number": data.get("offer_number") or False,
                "person_in_charge": data.get("person_in_charge") or False,
                "created_date": companion_datetime(data.get("created_date")),
                "changed_date": companion_datetime(data.get("changed_date")),
                "synced_at": companion_datetime(data.get("synced_at")),
                "imported_at": fields.Datetime.now(),
            },
            stats,
            "projects",
        )
        Phase = self.env["companion.phase"]
        Elevation = self.env["companion.elevation"]
        kept_phase_ids, kept_elevation_ids = [], []
        for phase_data in data.get("phases") or []:
            logikal_id = (phase_data.get("logikal_id") or NULL_GUID).lower()
            # (project, logikal_id): the null-GUID default phase exists once in EVERY project
            phase = self._companion_upsert(
                "companion.phase",
                [("project_id", "=", project.id), ("logikal_id", "=", logikal_id)],
                {
                    "project_id": project.id,
                    "logikal_id": logikal_id,
                    "name": phase_data.get("name") or logikal_id,
                    "description": phase_data.get("description") or False,
                    "is_default": bool(phase_data.get("is_default")) or logikal_id == NULL_GUID,
                    "companion_id": phase_data.get("id") or 0,
                    "synced_at": companion_datetime(phase_data.get("synced_at")),
                },
                stats,
                "phases",
            )
            kept_phase_ids.append(phase.id)
            for elevation_data in phase_data.get("elevations") or []:
                elevation = self._companion_upsert(
                    "companion.elevation",
                    [("guid", "=", elevation_data["guid"])],
                    dict(Elevation._companion_values(elevation_data), phase_id=phase.id),
                    stats,
                    "elevations",
                )
                kept_elevation_ids.append(elevation.id)
        # Mirror deletions inside this project; only when the answer carried phases/elevations.
        if "phases" in data:
            stale_phases = Phase.search([("project_id", "=", project.id), ("id", "not in", kept_phase_ids)])
            has_elevations = all("elevations" in p for p in data["phases"])
            if has_elevations:
                stale_elevations = Elevation.search(
                    [("project_id", "=", project.id), ("id", "not in", kept_elevation_ids)]
                )
                stats["elevations_removed"] += len(stale_elevations)
                stale_elevations.unlink()
            stats["phases_removed"] += len(stale_phases)
            stale_phases.unlink()
        return project


class CompanionPhase(models.Model):
    _name = "companion.phase"
    _description = "Logikal phase (companion mirror)"
    _order = "project_id, is_default, name, id"

    name = fields.Char(required=True, readonly=True)
    logikal_id = fields.Char(string="Logikal phase ID", required=True, readonly=True, index=True)
    is_default = fields.Boolean(
        string="Default phase",
        readonly=True,
        help="Logikal's phase for elevations not assigned to a delivery phase (null GUID in every project).",
    )
    description = fields.Text(readonly=True)
    companion_id = fields.Integer(string="Middleware ID", readonly=True)
    synced_at = fields.Datetime(string="Synced by middleware", readonly=True)
    project_id = fields.Many2one(
        "companion.project", string="Project", required=True, readonly=True, index=True, ondelete="cascade"
    )
    elevation_ids = fields.One2many("companion.elevation", "phase_id", string="Elevations", readonly=True)
    elevation_count = fields.Integer(compute="_compute_elevation_count")

    _sql_constraints = [
        ("project_logikal_uniq", "unique(project_id, logikal_id)", "A phase is mirrored once per project."),
    ]

    @api.depends("elevation_ids")
    def _compute_elevation_count(self):
        for phase in self:
            phase.elevation_count = len(phase.elevation_ids)


class CompanionElevation(models.Model):
    _name = "companion.elevation"
    _description = "Logikal elevation (companion mirror)"
    _order = "project_id, phase_id, name, id"

    name = fields.Char(required=True, readonly=True)
    guid = fields.Char(string="Logikal GUID", required=True, readonly=True, index=True, copy=False)
    companion_id = fields.Integer(string="Middleware ID", readonly=True)
    version_id = fields.Char(string="Logikal version", readonly=True)
    phase_id = fields.Many2one(
        "companion.phase", string="Phase", required=True, readonly=True, index=True, ondelete="cascade"
    )
    project_id = fields.Many2one(
        "companion.project", string="Project", related="phase_id.project_id", store=True, readonly=True, index=True
    )
    description = fields.Char(readonly=True)
    description2 = fields.Char(string="Description 2", readonly=True)
    auto_description = fields.Char(readonly=True)
    auto_description_short = fields.Char(string="Short description", readonly=True)
    amount = fields.Float(string="Quantity", readonly=True)
    width = fields.Float(string="Width (mm)", readonly=True)
    height = fields.Float(string="Height (mm)", readonly=True)
    area_output = fields.Float(string="Area", readonly=True)
    area_unit = fields.Char(readonly=True)
    weight_out = fields.Float(string="Weight", readonly=True)
    weight_unit = fields.Char(readonly=True)
    system_code = fields.Char(readonly=True)
    system_name = fields.Char(readonly=True)
    system_long_name = fields.Char(readonly=True)
    color_base_long = fields.Char(string="Colour", readonly=True)
    glass = fields.Text(readonly=True, help="One line per glass pane: Logikal glass id and name.")
    has_thumbnail = fields.Boolean(readonly=True)
    parse_status = fields.Selection(PARSE_STATUSES, string="Parts list", readonly=True, default="pending")
    parse_error = fields.Text(readonly=True)
    parsed_at = fields.Datetime(readonly=True)
    changed_date = fields.Datetime(string="Changed in Logikal", readonly=True)
    synced_at = fields.Datetime(string="Synced by middleware", readonly=True)

    _sql_constraints = [
        ("guid_uniq", "unique(guid)", "A Logikal elevation is mirrored only once."),
    ]

    @api.model
    def _companion_values(self, data):
        """Field values from one elevation object of projects.get / elevations.get (phase_id excluded)."""
        status = data.get("parse_status") or "pending"
        if status not in dict(PARSE_STATUSES):
            status = "unknown"
        return {
            "guid": data["guid"],
            "name": data.get("name") or data["guid"],
            "companion_id": data.get("id") or 0,
            "version_id": data.get("version_id") or False,
            "description": data.get("description") or False,
            "description2": data.get("description2") or False,
            "auto_description": data.get("auto_description") or False,
            "auto_description_short": data.get("auto_description_short") or False,
            "amount": data.get("amount") or 0.0,
            "width": data.get("width") or 0.0,
            "height": data.get("height") or 0.0,
            "area_output": data.get("area_output") or 0.0,
            "area_unit": data.get("area_unit") or False,
            "weight_out": data.get("weight_out") or 0.0,
            "weight_unit": data.get("weight_unit") or False,
            "system_code": data.get("system_code") or False,
            "system_name": data.get("system_name") or False,
            "system_long_name": data.get("system_long_name") or False,
            "color_base_long": data.get("color_base_long") or False,
            "glass": glass_text(data.get("glass")),
            "has_thumbnail": bool(data.get("has_thumbnail")),
            "parse_status": status,
            "parse_error": data.get("parse_error") or False,
            "parsed_at": companion_datetime(data.get("parsed_at")),
            "changed_date": companion_datetime(data.get("changed_date")),
            "synced_at": companion_datetime(data.get("synced_at")),
        }

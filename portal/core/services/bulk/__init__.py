"""Bulk invitations: a groupement's member list (CSV or XLSX) read and checked
(:mod:`.reading`), turned into a plan against what Keycloak holds (:mod:`.planning`), and the
report's French lines for what failed while writing (:mod:`.report`).

Pure: no Flask, no Keycloak. The adapter (:mod:`portal.core.keycloak.bulk_writer`) reads what
exists and writes the plan; the command line (``collecte_kc.bulk_import``) and the portal page
(:mod:`portal.web.imports`) show the report. The names callers use are gathered here.
"""

from portal.core.services.bulk.planning import (
    DryRun,
    Existing,
    NewAdherent,
    NewPerson,
    Outcome,
    PersonUpdate,
    Plan,
    dry_run,
    import_steps,
    plan,
)
from portal.core.services.bulk.reading import (
    EXTENSIONS,
    MAX_ROWS,
    Checked,
    FileError,
    Kind,
    ReportLine,
    Row,
    check,
    read_table,
)

__all__ = [
    "EXTENSIONS",
    "MAX_ROWS",
    "Checked",
    "DryRun",
    "Existing",
    "FileError",
    "Kind",
    "NewAdherent",
    "NewPerson",
    "Outcome",
    "PersonUpdate",
    "Plan",
    "ReportLine",
    "Row",
    "check",
    "dry_run",
    "import_steps",
    "plan",
    "read_table",
]

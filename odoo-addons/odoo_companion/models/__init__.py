from . import companion_client
from . import companion_project
from . import companion_sync_run
from . import res_config_settings
from . import companion_fiscal_receipt

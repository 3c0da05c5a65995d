"""The duty desk (值班台): what a duty officer does at the desk besides the loop's instructions.

- :mod:`.filing` — 登记: file a case by hand (a phone call) into a place of the account's scope;
- :mod:`.convert` — 预警转案件: turn an alert into a case linked to it;
- :mod:`.dismiss` — 排除: dismiss an alert with a reason;
- :mod:`.fields` — the typed text, cleaned and checked as a polled record's is;
- :mod:`.place` — where a filed case lies, checked against the account's own scope;
- :mod:`.options` — the form's choices (places in scope, categories, departments);
- :mod:`.errors` — why an action was refused (a catalogue key with its values).

Each action checks the acting account (role and **its own** area scope: an id from the browser names
nothing outside it), writes its timeline events and an audit row in the caller's transaction, and
says which layers changed; the caller commits and bumps their versions.
"""

from .convert import alert_to_case
from .dismiss import DISMISS_REASONS, dismiss_alert
from .errors import AlertNotFound, DeskRefused
from .filing import DESK_FEED, CaseForm, Filed, file_case
from .options import PlaceOption, place_options

__all__ = [
    "DESK_FEED",
    "DISMISS_REASONS",
    "AlertNotFound",
    "CaseForm",
    "DeskRefused",
    "Filed",
    "PlaceOption",
    "alert_to_case",
    "dismiss_alert",
    "file_case",
    "place_options",
]

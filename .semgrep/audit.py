# Tests of the rules in audit.yml: `semgrep --test .semgrep/` (make security).
from sqlalchemy import delete, text, update

from registry.models.tables import Application, ApplicationEvent, CaseEvent

# ruleid: audit-trail-changed
delete(CaseEvent).where(CaseEvent.application_id == "x")
# ruleid: audit-trail-changed
update(ApplicationEvent).values(status="decided")
# ruleid: audit-trail-changed
text("DELETE FROM case_events WHERE kind = 'view'")
# ruleid: audit-trail-changed
text("update application_events set status = 'x'")
# ok: audit-trail-changed
update(Application).values(status="decided")
# ok: audit-trail-changed
text("SELECT kind FROM case_events")

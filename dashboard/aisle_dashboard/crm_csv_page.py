"""CSV import for CSV providers: the file chosen once, its first rows shown as they would
be imported (Aisle values and each row's errors; nothing written), then imported as a
sync run (:class:`~aisle.crm.csv_import.CSVImports`, as the API's ``/csv`` routes).

The preview is swapped in by htmx under the form, so the chosen file stays chosen and
the import button sends the same file; without JavaScript the preview is its own page.
"""

from __future__ import annotations

import tempfile
from typing import IO, Any

from litestar import Request, Response, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from aisle.crm.connections import ConnectionService
from aisle.crm.csv_import import CSVImports
from aisle.services.errors import FieldError, Refused
from aisle.services.sessions import Session
from aisle_dashboard.acting import NOT_SIGNED_IN, REFUSALS, refusal, see
from aisle_dashboard.crm_common import crm_deps
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = ["CSV_HANDLERS"]

_SPOOL_BYTES = 1 << 20
"""A file larger than this is spooled to a temporary file, not held in memory."""
_PREVIEW_ROWS = 10


async def _upload(form: Any) -> tuple[IO[bytes], int]:
    """The form's ``file`` part, spooled, and its size."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Refused(
            400, "file: choose a CSV file", errors=[FieldError(message="missing", field="file")]
        )
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - returned
    while chunk := await upload.read(1 << 16):
        spool.write(chunk)
    size = spool.tell()
    spool.seek(0)
    return spool, size


def _answer(
    request: Request[Any, Any, Any], session: Session, status_code: int, **context: Any
) -> Response[Any]:
    """The preview (or the refusal) as htmx's fragment, or as a page of its own."""
    template = "crm_preview.html" if request.headers.get("hx-request") else "crm_preview_page.html"
    if request.headers.get("hx-request") and status_code >= 400:
        # htmx swaps only 2xx answers by default: the refusal is shown where the
        # preview would be.
        status_code = 200
    return page(
        request, template, status_code=status_code, session=session, active="crm", **context
    )


@post("/crm/{connection_id:str}/csv/preview", name="dashboard:crm-csv-preview", status_code=200)
async def preview(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    deps = crm_deps(request)
    form = await request.form()
    try:
        connection = await ConnectionService(deps, session.scope, session).get(connection_id)
        stream, _ = await _upload(form)
        with stream:
            shown = await CSVImports(deps, session.scope, session).preview(
                connection.id, str(form.get("format") or ""), stream, rows=_PREVIEW_ROWS
            )
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return _answer(
            request, session, code, connection_id=connection_id, preview=None, error=detail
        )
    return _answer(request, session, 200, connection_id=connection.id, preview=shown, error="")


@post("/crm/{connection_id:str}/csv/import", name="dashboard:crm-csv-import", status_code=303)
async def import_file(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    form = await request.form()
    try:
        stream, size = await _upload(form)
        with stream:
            run = await CSVImports(crm_deps(request), session.scope, session).run(
                connection_id, str(form.get("format") or ""), stream, size=size
            )
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return page(
            request,
            "crm_preview_page.html",
            status_code=code,
            session=session,
            active="crm",
            connection_id=connection_id,
            preview=None,
            error=detail,
        )
    return see(f"/crm/runs/{run.id}")


CSV_HANDLERS = (preview, import_file)

"""The canvas: journeys and their drafts as React Flow edits them, and the service
every entry point edits them through.

``reactflow`` (the React Flow JSON codec), ``flow_ops`` (the op vocabulary),
``graph_paths`` (per-property diffs), ``merge`` (the three-way merge of op batches),
``admission`` (what may be stored) and ``etags`` (revisions as entity tags) are pure;
:class:`~aisle.canvas.service.CanvasService` owns the transactions. Nothing here knows
HTTP: refusals are :class:`aisle.services.errors.Refused`, which the API renders.

Services live beside what they serve: this package for the canvas, ``aisle.runtime``
for events and enrollments, ``aisle.collab`` for collaboration, and ``aisle.services``
for the rest (journey lifecycle, access), plus the errors and role checks they share.
"""

from aisle.canvas.service import CanvasCollab, CanvasService

__all__ = ["CanvasCollab", "CanvasService"]

"""HTML for the Corpus tab: the documents table and the box saying how the index stands against the corpus folder."""

from __future__ import annotations

from policyqa import IndexStatus, WatchStatus

from .formatting import esc, message_box, size, when


def documents_table(status: IndexStatus, watched: bool = False) -> str:
    """`watched`: the corpus watcher indexes changes by itself; the notes say so instead of asking for a rebuild."""
    todo = "being indexed" if watched else "rebuild"
    states = {"removed": f" (file removed; {todo})", "changed": f" (changed; {todo})"}
    rows = []
    for d in status.documents:
        if d.state == "new":
            rows.append(("—", d.doc_id, "—", "—", f"not indexed yet ({todo})"))
            continue
        note = states.get(d.state, "") + "".join(f"; {n}" for n in d.notes)
        rows.append((d.title or "", d.doc_id, str(d.chunks), size(d.size), when(d.indexed_at) + note))
    if not rows:
        return message_box("No documents indexed.", "info")
    labels = ("Title", "File", "Chunks", "Size", "Indexed")
    head = "".join(f"<th>{h}</th>" for h in labels)
    body = "".join(
        "<tr>"
        + "".join(f'<td data-label="{h}">{esc(cell)}</td>' for h, cell in zip(labels, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f'<table class="pqa-docs"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def stale_html(status: IndexStatus, watch: WatchStatus | None = None) -> str:
    """`watch`: the corpus watcher's status; while it works and its last build did not fail, changes are said to be
    on their way into the index instead of asking for a rebuild."""
    if not status.indexed:
        return message_box("No index yet — click “Rebuild index”.", "warning")
    stale = status.stale
    skipped = "".join(f"<li><code>{esc(s.path)}</code>: {esc(s.reason)}</li>" for s in stale.skipped)
    skipped = f"<p>Skipped files:</p><ul>{skipped}</ul>" if skipped else ""
    if not stale.is_stale:
        return message_box("The index is up to date with the corpus folder.", "ok") + skipped
    changes = [
        f"{label}: {', '.join(ids)}"
        for ids, label in ((stale.added, "new"), (stale.modified, "changed"), (stale.deleted, "removed"))
        if ids
    ]
    if stale.full_rebuild_reason:
        changes.insert(0, f"full rebuild needed: {stale.full_rebuild_reason}")
    if watch is not None and watch.state != "stopped" and watch.last_error is None:
        count = len(stale.added) + len(stale.modified) + len(stale.deleted)
        what = f"Indexing {count} changed file{'s' if count != 1 else ''}" if count else "Rebuilding the index"
        doing = f"{what}…" if watch.state == "building" else f"{what} in a few seconds."
        return message_box(f"{doing} " + "; ".join(changes), "info") + skipped
    text = "The index is out of date with the corpus folder — click “Rebuild index”. " + "; ".join(changes)
    return message_box(text, "warning") + skipped


def watch_box(watch: WatchStatus) -> str:
    """What the corpus watcher does, and a failed automatic build as a warning."""
    return message_box(watch.message(), "warning" if watch.last_error or watch.last_skipped else "info")

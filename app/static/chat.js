// The conversation: a marker scrolls to its source; "View in document" asks the server for the document
// (trigger -> Handlers.view_document). Runs as the chat component's js_on_load (element, trigger, watch).
element.addEventListener('click', (event) => {
  const view = event.target.closest('button.pqa-view');
  if (view) {
    trigger('click', {doc: view.dataset.doc, start: Number(view.dataset.start), end: Number(view.dataset.end)});
    return;
  }
  const link = event.target.closest('a.pqa-cite');
  if (!link) return;
  event.preventDefault();
  const target = document.getElementById('cite-' + link.dataset.cite);
  if (!target) return;
  const details = target.closest('details');
  if (details) details.open = true;
  document.querySelectorAll('.pqa-source.pqa-active').forEach((el) => el.classList.remove('pqa-active'));
  target.classList.add('pqa-active');
  target.scrollIntoView({behavior: 'smooth', block: 'center'});
});
watch('value', () => {
  const last = element.querySelector('.pqa-turn.pqa-last');
  if (last && element.querySelectorAll('.pqa-turn').length > 1) last.scrollIntoView({block: 'start'});
});

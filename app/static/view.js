// Lists of passages (search results, the comparison grid): "View in document" asks the server for the document
// (trigger -> Handlers.view_document), as in the chat.
element.addEventListener('click', (event) => {
  const view = event.target.closest('button.pqa-view');
  if (view) trigger('click', {doc: view.dataset.doc, start: Number(view.dataset.start), end: Number(view.dataset.end)});
});

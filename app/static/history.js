// Past questions: clicking one asks it again.
element.addEventListener('click', (event) => {
  const item = event.target.closest('button.pqa-past');
  if (item) trigger('click', {question: item.dataset.question});
});

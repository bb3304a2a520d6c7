// The document view: bring the highlighted quote into view whenever a new document or span is shown.
const show = () => {
  const mark = element.querySelector('mark.pqa-quote');
  if (mark) mark.scrollIntoView({block: 'center'});
};
watch('value', show);
show();

// The evidence panel's script (gr.HTML js_on_load): every turn's evidence is in the panel, and this
// shows the one the user points at (a bubble, or an [n] in it), opens a citation's page and keeps
// the tab title in the page's language. One listener on the document, so re-rendered bubbles need none.
window.cqServer = server;
const panel = () => document.querySelector('#cq-evidence');
const bots = () => Array.from(document.querySelectorAll("#cq-chat [data-testid='bot']"));

function showTurn(turn, n) {
  const root = panel();
  if (!root) return;
  root.querySelectorAll('.ev-turn').forEach((s) => s.classList.toggle('active', s.dataset.turn === String(turn)));
  root.querySelectorAll('.ev-start').forEach((p) => { p.hidden = true; });
  bots().forEach((b, i) => b.classList.toggle('cq-selected', i === turn));
  const section = root.querySelector(`.ev-turn[data-turn="${turn}"]`);
  const card = n ? root.querySelector(`#cq-ev-${turn}-${n}`) : section && section.querySelector('.ev-cited');
  const target = card || section;
  if (card) {
    root.querySelectorAll('.ev-card.flash').forEach((c) => c.classList.remove('flash'));
    card.classList.add('flash');
  }
  if (target) (target.querySelector('mark') || target).scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

async function openPage(button) {
  const modal = panel().querySelector('.ev-modal');
  const view = modal.querySelector('.ev-page-view');
  const lang = panel().querySelector('.ev').dataset.lang;
  view.innerHTML = '…';
  modal.hidden = false;
  view.innerHTML = await window.cqServer.page_html([button.dataset.doc, button.dataset.page, button.dataset.quote, lang]);
  const mark = view.querySelector('mark');
  if (mark) mark.scrollIntoView({ block: 'center' });
}

if (!window.cqListening) {
  window.cqListening = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a.cq-cite');
    if (link) {
      event.preventDefault();
      event.stopPropagation();
      const [, turn, n] = link.getAttribute('href').match(/cq-ev-(\d+)-(\d+)/) || [];
      if (turn !== undefined) showTurn(Number(turn), Number(n));
      return;
    }
    const open = event.target.closest('#cq-evidence .ev-open');
    if (open) { openPage(open); return; }
    const modal = event.target.closest('#cq-evidence .ev-modal');
    if (modal && (event.target === modal || event.target.closest('.ev-close'))) { modal.hidden = true; return; }
    const bot = event.target.closest("#cq-chat [data-testid='bot']");
    if (bot && !event.target.closest('button')) showTurn(bots().indexOf(bot));
  }, true);
  document.addEventListener('keydown', (event) => {
    const modal = panel() && panel().querySelector('.ev-modal');
    if (event.key === 'Escape' && modal && !modal.hidden) modal.hidden = true;
  });
}

const retitle = () => {
  const ev = element.querySelector('.ev');
  if (ev) document.title = ev.dataset.title;
};
retitle();
watch('value', retitle);

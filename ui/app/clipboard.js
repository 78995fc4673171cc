// clipboard.js: copying text, for the inspector and the grid.

/** Copy text: the Clipboard API where the page may use it (a secure context), else the selection's copy. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = document.createElement('textarea');
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

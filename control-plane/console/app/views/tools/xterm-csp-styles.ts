/**
 * xterm.js writes its colours and cell sizes into `<style>` elements made with
 * `document.createElement('style')`. The console runs under `style-src 'self'`, which refuses
 * inline `<style>` elements (and reports each as a violation), so the terminal would draw
 * without them. While installed, `createElement('style')` returns a hidden stand-in element
 * instead, and its text is mirrored into a constructed stylesheet adopted by the document:
 * CSSOM is not subject to the policy. Nothing else in the console creates `<style>` elements.
 */

/** The stand-in's tag; a custom element name, so it means nothing to the browser. */
const STAND_IN_TAG = 'lifeline-style';

const sheets = new Map<Element, CSSStyleSheet>();
let installed = false;

/** Installs the stand-in for the page's lifetime; later calls do nothing. */
export function installCspSafeStyles(): void {
  if (installed) return;
  installed = true;
  const create = document.createElement.bind(document);
  const patched = ((tagName: string, options?: ElementCreationOptions) => {
    if (tagName.toLowerCase() !== 'style') return create(tagName, options);
    return standIn(create(STAND_IN_TAG));
  }) as typeof document.createElement;
  document.createElement = patched;
}

function standIn(element: HTMLElement): HTMLElement {
  element.hidden = true;
  const sheet = new CSSStyleSheet();
  sheets.set(element, sheet);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  const sync = () => sheet.replaceSync(element.textContent ?? '');
  new MutationObserver(sync).observe(element, { childList: true, characterData: true, subtree: true });
  const remove = element.remove.bind(element);
  element.remove = () => {
    remove();
    drop(element);
  };
  return element;
}

function drop(element: Element): void {
  const sheet = sheets.get(element);
  if (!sheet) return;
  sheets.delete(element);
  document.adoptedStyleSheets = document.adoptedStyleSheets.filter((adopted) => adopted !== sheet);
}

/** Drops the sheets of every stand-in no longer in the document; call after disposing a terminal. */
export function releaseDetachedStyles(): void {
  for (const element of [...sheets.keys()]) if (!element.isConnected) drop(element);
}

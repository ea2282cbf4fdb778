/**
 * xterm.js writes its colours and cell sizes into `<style>` elements made with
 * `document.createElement('style')`, and 24-bit colours into `style` attributes with
 * `setAttribute('style', …)` on the spans of each row. The console runs under `style-src 'self'`,
 * which refuses both (and reports each as a violation), so the terminal would draw without them.
 * While installed, `createElement('style')` returns a hidden stand-in element whose text is
 * mirrored into a constructed stylesheet adopted by the document, and spans take `style`
 * attributes through `style.cssText`: CSSOM is not subject to the policy. Nothing else in the
 * console creates `<style>` elements or sets `style` attributes by hand.
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
    const tag = tagName.toLowerCase();
    if (tag === 'style') return standIn(create(STAND_IN_TAG));
    const element = create(tagName, options);
    if (tag === 'span') element.setAttribute = setAttributeThroughCssom;
    return element;
  }) as typeof document.createElement;
  document.createElement = patched;
}

/** `setAttribute` for spans: a `style` attribute goes through CSSOM, everything else as usual. */
function setAttributeThroughCssom(this: HTMLElement, name: string, value: string): void {
  if (name.toLowerCase() === 'style') this.style.cssText = value;
  else Element.prototype.setAttribute.call(this, name, value);
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

/**
 * The little XML the STS emulator needs: writing AWS Query responses and, in tests, reading single
 * elements back out of a body. Not a general XML library.
 */

/** An element with either text or child elements. */
export interface XmlElement {
  readonly name: string;
  readonly text?: string;
  readonly children?: readonly XmlElement[];
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** Reverses `escapeXml` plus numeric character references. */
export function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, entity: string) => {
    switch (entity) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const code = entity.startsWith('#x') ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1));
        return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
      }
    }
  });
}

/** Shorthand for an element with text. */
export function el(name: string, text: string): XmlElement {
  return { name, text };
}

/** Shorthand for an element with children. */
export function parent(name: string, ...children: readonly XmlElement[]): XmlElement {
  return { name, children };
}

function render(element: XmlElement, depth: number, attributes: string): string {
  const pad = '  '.repeat(depth);
  const children = element.children ?? [];
  if (children.length > 0) {
    const inner = children.map((child) => render(child, depth + 1, '')).join('');
    return `${pad}<${element.name}${attributes}>\n${inner}${pad}</${element.name}>\n`;
  }
  return `${pad}<${element.name}${attributes}>${escapeXml(element.text ?? '')}</${element.name}>\n`;
}

/**
 * Renders a document the way AWS Query services print theirs: no XML declaration, two-space
 * indentation, one element per line, a namespace on the root, a trailing newline.
 */
export function renderXmlDocument(root: XmlElement, namespace: string): string {
  return render(root, 0, ` xmlns="${escapeXml(namespace)}"`);
}

/**
 * The unescaped text of the first `<name>` element in `xml`, or undefined when there is none.
 * Good enough for AWS responses, which have no CDATA, comments or attributes on leaf elements.
 */
export function readXmlText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(xml);
  const text = match?.[1];
  return text === undefined ? undefined : unescapeXml(text);
}

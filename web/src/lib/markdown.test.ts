import { describe, expect, it } from 'vitest';
import { codeOfCopyButton, renderMarkdown } from './markdown';

function html(source: string): HTMLDivElement {
  const host = document.createElement('div');
  host.append(renderMarkdown(source));
  return host;
}

describe('renderMarkdown', () => {
  it('shows raw HTML as text, never as elements', () => {
    const host = html('Look: <img src=x onerror=alert(1)> <script>alert(2)</script> <b onmouseover=alert(3)>b</b>');
    expect(host.querySelector('img, script, b, [onerror], [onmouseover]')).toBeNull();
    expect(host.textContent).toContain('<img src=x onerror=alert(1)>');
    expect(host.textContent).toContain('<script>alert(2)</script>');
  });

  it('drops javascript: links; shows data images inline and links https ones instead of loading them', () => {
    const pixel = 'data:image/png;base64,iVBORw0KGgo=';
    const host = html(`[click](javascript:alert(1)) [ok](https://example.org) ![a](javascript:alert(2)) ![b](http://x/y.png) ![c](https://x/c.png) ![d](${pixel})`);
    const links = Array.from(host.querySelectorAll('a'), (a) => [a.getAttribute('href'), a.textContent]);
    expect(links).toEqual([[null, 'click'], ['https://example.org', 'ok'], ['https://x/c.png', 'c']]);
    expect(host.querySelector('a[href^="https"]')?.getAttribute('rel')).toBe('noopener noreferrer');
    expect(Array.from(host.querySelectorAll('img'), (img) => img.getAttribute('src'))).toEqual([null, null, pixel]);
    expect(host.querySelector('[data-remote]')).toBeNull();
  });

  it('renders tables, lists and highlighted code with a Copy button', () => {
    const host = html('| a |\n|---|\n| 1 |\n\n- one\n- two\n\n```python\nprint("hi")\n```\n');
    expect(host.querySelectorAll('td')).toHaveLength(1);
    expect(host.querySelectorAll('li')).toHaveLength(2);
    const button = host.querySelector('button.copy-code');
    expect(button?.getAttribute('aria-label')).toBe('Copy code');
    expect(host.querySelector('code.language-python .hljs-built_in')?.textContent).toBe('print');
    expect(codeOfCopyButton(button as Element)).toBe('print("hi")');
  });
});

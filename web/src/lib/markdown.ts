/**
 * THE place where untrusted text (model answers) becomes HTML: marked -> DOMPurify -> DOM nodes.
 * A reviewer checking for XSS reads this file and components/Markdown.svelte, nothing else; every
 * other piece of text (titles, user names, tool results) is rendered by Svelte as text.
 *
 * - raw HTML in the markdown is shown as the text it is, never parsed: a model writing
 *   `<img onerror=…>` means to show the tag (and parsing it, even in DOMPurify's inert document,
 *   makes Chromium report a blocked inline handler under the page's CSP). What marked itself
 *   produces is then sanitised: `javascript:` and other unsafe URLs, styles and ids are removed;
 * - links open in a new tab with rel="noopener noreferrer";
 * - images are shown inline only from data:image/ URLs (what the CSP allows besides the page's own);
 *   an https: image becomes a link to it: loading it would tell its host that the answer was read
 *   and could carry the conversation out in its URL (a known prompt-injection trick);
 * - code blocks are highlighted by highlight.js (a few common languages, registered explicitly so the
 *   bundle stays small) and get a real "Copy code" button added with DOM calls after sanitising.
 */
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import { Marked, type Tokens } from 'marked';

const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
hljs.registerAliases(['sh', 'shell', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });

const FORBID_TAGS = [
  'style', 'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'form', 'input', 'button', 'textarea',
  'select', 'option', 'link', 'meta', 'base', 'svg', 'math', 'video', 'audio', 'source', 'track', 'dialog',
  'template', 'noscript',
];
// `style` could dress an answer up as the app's own controls; `id`/`name` could clobber globals
const FORBID_ATTR = ['style', 'id', 'name', 'form', 'formaction', 'srcset', 'autofocus', 'tabindex'];
const SAFE_IMAGE = /^data:image\/(png|jpe?g|gif|webp|avif);base64,/i;
const REMOTE_IMAGE = /^https:\/\//i;
const SAFE_LANGUAGE = /^[\w+#.-]{1,32}$/;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const marked = new Marked({
  gfm: true,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    code({ text, lang }: Tokens.Code): string {
      const language = (lang ?? '').trim().split(/\s+/)[0].toLowerCase();
      const known = SAFE_LANGUAGE.test(language) && hljs.getLanguage(language) !== undefined;
      const body = known ? hljs.highlight(text, { language, ignoreIllegals: true }).value : escapeHtml(text);
      const tag = SAFE_LANGUAGE.test(language) ? ` language-${language}` : '';
      return `<pre><code class="hljs${tag}">${body}</code></pre>\n`;
    },
  },
});

let purifier: ReturnType<typeof DOMPurify> | null = null;

function sanitizer(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
  purifier.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      if (node.hasAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    } else if (node.tagName === 'IMG') {
      const src = node.getAttribute('src') ?? '';
      if (REMOTE_IMAGE.test(src)) {
        node.setAttribute('data-remote', src); // becomes a link after sanitising (linkRemoteImages)
        node.removeAttribute('src');
      } else if (!SAFE_IMAGE.test(src)) node.removeAttribute('src');
      node.setAttribute('loading', 'lazy');
      node.setAttribute('referrerpolicy', 'no-referrer');
    }
  });
  return purifier;
}

/** Markdown (untrusted) -> a sanitised DOM fragment, ready to be inserted. */
export function renderMarkdown(source: string, copyLabel = 'Copy code'): DocumentFragment {
  const html = marked.parse(source, { async: false });
  const fragment = sanitizer().sanitize(html, {
    FORBID_TAGS,
    FORBID_ATTR,
    ALLOW_DATA_ATTR: false,
    ADD_ATTR: ['target'],
    RETURN_DOM_FRAGMENT: true,
  });
  linkRemoteImages(fragment);
  addCopyButtons(fragment, copyLabel);
  return fragment;
}

/** An https image -> a link to it, named by its alt text (opened only if the person wants to). */
function linkRemoteImages(fragment: DocumentFragment): void {
  for (const image of Array.from(fragment.querySelectorAll('img[data-remote]'))) {
    const link = document.createElement('a');
    link.href = image.getAttribute('data-remote') ?? '';
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.textContent = image.getAttribute('alt') || link.href;
    image.replaceWith(link);
  }
}

/** Wraps each <pre> in a block with a header: the language and a Copy button (built here, not parsed). */
function addCopyButtons(fragment: DocumentFragment, copyLabel: string): void {
  for (const pre of Array.from(fragment.querySelectorAll('pre'))) {
    const block = document.createElement('div');
    block.className = 'code-block';
    const header = document.createElement('div');
    header.className = 'code-header';
    const language = document.createElement('span');
    language.textContent = /(?:^|\s)language-(\S+)/.exec(pre.querySelector('code')?.className ?? '')?.[1] ?? '';
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'copy-code';
    button.setAttribute('aria-label', copyLabel);
    button.textContent = copyLabel;
    header.append(language, button);
    pre.replaceWith(block);
    block.append(header, pre);
  }
}

/** The code of the block a Copy button belongs to. */
export function codeOfCopyButton(button: Element): string | null {
  return button.closest('.code-block')?.querySelector('pre code')?.textContent ?? null;
}

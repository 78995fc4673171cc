// Markdown.jsx: a Markdown cell's text rendered (markdown-it, CommonMark
// with tables and strikethrough).  Raw HTML in the text is shown as text,
// never run: the renderer escapes it (html: false) and refuses javascript:
// and data: links; links open in a new tab.

import MarkdownIt from 'markdown-it';
import { useMemo } from 'preact/hooks';
import './Markdown.css';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
const renderToken = (tokens, i, options, env, self) => self.renderToken(tokens, i, options);
const linkOpen = md.renderer.rules.link_open ?? renderToken;
md.renderer.rules.link_open = (tokens, i, options, env, self) => {
  tokens[i].attrSet('target', '_blank');
  tokens[i].attrSet('rel', 'noopener noreferrer');
  return linkOpen(tokens, i, options, env, self);
};

export function Markdown({ source }) {
  const html = useMemo(() => md.render(source), [source]);
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}

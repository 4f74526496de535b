// Text into HTML (element content and quoted attributes): the five characters that could end
// either are written as numeric references.
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

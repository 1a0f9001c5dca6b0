export const DOCS_PAGE = '<!doctype html><p>placeholder</p>';
export const DOCS_PAGE_CSP = "default-src 'none'";

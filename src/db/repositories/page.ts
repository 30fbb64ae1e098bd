/** One page of a list and the total count of matching rows. */
export interface PageWindow {
  limit: number;
  offset: number;
}

/**
 * Reads a page, then counts only when it must: a short page that is not past
 * the end already tells the total (offset + rows). Most lists fit in one page,
 * so this saves a query on most requests.
 */
export async function pageWithTotal<T>(
  page: PageWindow,
  rows: () => Promise<T[]>,
  count: () => Promise<{ n: number | string | bigint }>,
): Promise<{ rows: T[]; total: number }> {
  const r = await rows();
  if (r.length < page.limit && (r.length > 0 || page.offset === 0)) return { rows: r, total: page.offset + r.length };
  return { rows: r, total: Number((await count()).n) };
}

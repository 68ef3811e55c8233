/** Run `fn` over `items` with at most `width` calls at once; results in input order. */
export async function pool(items, width, fn) {
  let i = 0;
  const out = [];
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) {
        const k = i++;
        out[k] = await fn(items[k]);
      }
    }),
  );
  return out;
}

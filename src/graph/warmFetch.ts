/**
 * Node loads and compiles its `fetch` (undici) on the first call, and the Graph client sends
 * every request through it: a webhook's first Graph request would pay for that. A `data:` URL
 * runs the same fetch and body-reading code with no network at all, so the warm-up can pay it
 * at start-up without a request to Graph or anywhere else.
 */
export async function warmFetch(): Promise<void> {
  const response = await fetch('data:application/json,{}');
  await response.json();
}

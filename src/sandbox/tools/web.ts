import { S, ToolError, params, recordMatches, type ToolDef } from './define';

export const webTools: ToolDef[] = [
  {
    name: 'web_search',
    domain: 'web',
    privilege: 'normal',
    description: 'Search the web. Returns result titles, URLs and snippets.',
    parameters: params({ query: S('Search query.') }, ['query']),
    run(world, a) {
      const words = String(a.query)
        .toLowerCase()
        .split(/\s+/)
        .filter((w) => w.length > 2);
      const hits = world.state.pages.filter((p) => words.some((w) => recordMatches(p, w, ['title', 'content'])));
      return { results: hits.slice(0, 5).map((p) => ({ url: p.url, title: p.title, snippet: String(p.content).slice(0, 120) })) };
    },
  },
  {
    name: 'web_fetch',
    domain: 'web',
    privilege: 'normal',
    description: 'Fetch a web page and return its text content.',
    parameters: params({ url: S('Absolute http(s) URL.') }, ['url']),
    run(world, a) {
      if (!/^https?:\/\//.test(a.url)) throw new ToolError('web_fetch', `argument "url" must start with http:// or https://, got "${a.url}"`);
      const p = world.state.pages.find((x) => x.url === a.url);
      if (!p) throw new ToolError('web_fetch', `404 not found: ${a.url}`);
      return { url: p.url, title: p.title, content: p.content };
    },
  },
];

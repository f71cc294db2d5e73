// The player's modules are plain ES modules named .js with no package.json beside them (the
// browser needs none). Node before 20.19/22.12 would read such a file as CommonJS, so this hook
// says what they are: ES modules (Node "Customization Hooks", load()).
export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && url.includes('/static/player/js/') && url.endsWith('.js')) {
    return nextLoad(url, { ...context, format: 'module' });
  }
  return nextLoad(url, context);
}

// Where the player's modules are, for the tests beside this file.
export const JS = new URL('../../hlskit/server/static/player/js/', import.meta.url);
export const load = (name) => import(new URL(name, JS).href);

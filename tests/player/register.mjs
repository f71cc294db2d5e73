// node --import ./tests/player/register.mjs --test ...: installs esm-hooks.mjs first.
import { register } from 'node:module';

register('./esm-hooks.mjs', import.meta.url);

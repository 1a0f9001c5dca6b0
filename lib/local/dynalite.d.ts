// dynalite ships no types; this is the part of its API we use.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  type Options = {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  };
  function dynalite(options?: Options): Server;
  export default dynalite;
}

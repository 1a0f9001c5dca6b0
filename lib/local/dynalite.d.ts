// dynalite ships no types; this is the part of its API we use.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  type Options = {
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    /** LevelDB's open options (classic-level): passed through by our patch (patches/). */
    levelOptions?: {
      cacheSize?: number;
      writeBufferSize?: number;
      maxOpenFiles?: number;
      maxFileSize?: number;
    };
  };
  function dynalite(options?: Options): Server;
  export default dynalite;
}

// Types of scripts/gen-client-types.mjs, for the test that imports it.
export declare const OUTPUT: string;
export declare function openApiDocument(): Promise<
  { paths: Record<string, Record<string, unknown>> } & Record<string, unknown>
>;
export declare function renderClientTypes(doc: unknown): string;
export declare function tsType(schema: unknown, doc: unknown, depth?: number): string;

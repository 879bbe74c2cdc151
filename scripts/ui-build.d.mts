export function uiBuildIsStale(root: string): boolean;
export function viteBuildArgs(root: string): string[];

export const LAYOUTS = ["nfdiag", "sosreport", "supportconfig", "loose"] as const;
export type Layout = (typeof LAYOUTS)[number];

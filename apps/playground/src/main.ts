/** The playground web app (apps/playground): see docs/api.md. */
export {};

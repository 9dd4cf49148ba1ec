// What Vite gives for `?url` imports (vite/client declares it; the consumer installs no Vite types).
declare module '*?url' {
  const url: string;
  export default url;
}

// Stylesheets are imported for their side effect: esbuild gathers them into each page's CSS file.
declare module "*.css";

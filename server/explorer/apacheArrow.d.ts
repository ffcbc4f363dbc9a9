// apache-arrow 11's package.json "exports" hides its typings from NodeNext resolution: the module
// is declared here and typed by path in arrowStream.ts.
declare module "apache-arrow";

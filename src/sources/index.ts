export { landFile } from "./file.ts";

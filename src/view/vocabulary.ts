// What the view needs to know about codes beyond what the document carries is the section renderings'
// vocabulary (src/sections/vocabulary.ts); the http layer supplies the summary's.
export { documentOnlyVocabulary, type Vocabulary as ViewVocabulary } from '../sections/vocabulary.ts';

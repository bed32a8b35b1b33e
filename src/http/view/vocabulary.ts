// The view reads the same vocabulary as the summary's narrative (src/summary/vocabulary.ts).
export { summaryVocabulary } from '../../summary/vocabulary.ts';

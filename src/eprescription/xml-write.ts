// The eHDSI emitters of this bridge write with the project's XML writer (src/xml/write.ts).
export * from '../xml/write.ts';

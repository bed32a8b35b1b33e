// The extension URLs of the HL7 Europe / IHE MPD profiles, used by both bridges and the view: one place, so
// what the emitters write is what the readers look for.
export const MPD_EXTENSION = {
  prescribedQuantity: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medicationrequest-prescribedQuantity',
  renderedDosageInstruction: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationRequest.renderedDosageInstruction',
  productName: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-productname',
  classification: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-classification',
  packageType: 'http://hl7.eu/fhir/StructureDefinition/medication-package-type',
  sizeOfItem: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-sizeofitem',
  unitOfPresentation: 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medication-unitofpresentation',
} as const;

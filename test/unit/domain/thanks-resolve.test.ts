import { describe, expect, it } from 'vitest';
import { asksSomething } from '#lib/domain/conversation.ts';

// Whether the customer's thanks may answer our reply: "ok, dziękuję" to "Czy mogę zamknąć
// zgłoszenie?" is a yes, never a conversation to resolve by itself.
describe('asksSomething', () => {
  it.each([
    ['Czy mogę zamknąć zgłoszenie?', true],
    ['Paczka wyszła. Czy coś jeszcze?\nAnna', true],
    ['Mam wysłać nową paczkę?!', true],
    ['¿Le enviamos otro paquete', true],
    ['Could you confirm the address (street?) please.', true],
    ['Paczka wyszła dziś rano.', false],
    ['Status: https://track.example.pl/?id=4711 — jutro u Pana.', false],
    ['', false],
  ])('should tell whether %j asks something', (text, asks) => {
    // Act
    const asked = asksSomething(text);

    // Assess
    expect(asked).toBe(asks);
  });
});

// Sets a progress fill's width through the CSSOM. A style="" attribute (which
// Lit's styleMap writes on first render) is inline style, and the app's
// Content-Security-Policy (style-src 'self') blocks it; element.style is not
// inline markup and stays allowed.
import { noChange } from 'lit';
import { Directive, directive, type ElementPart, type PartInfo, PartType } from 'lit/directive.js';

class FillWidth extends Directive {
  constructor(info: PartInfo) {
    super(info);
    if (info.type !== PartType.ELEMENT)
      throw new Error(
        'fillWidth() goes where an element takes attributes, not in text or an attribute value',
      );
  }

  render(_percent: number): typeof noChange {
    return noChange;
  }

  override update(part: ElementPart, [percent]: [number]): typeof noChange {
    (part.element as HTMLElement).style.width = `${percent}%`;
    return noChange;
  }
}

export const fillWidth = directive(FillWidth);

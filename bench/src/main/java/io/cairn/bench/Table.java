package io.cairn.bench;

import java.util.ArrayList;
import java.util.List;

/** A Markdown table built row by row. */
final class Table {
  private final List<String> header;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... header) {
    this.header = List.of(header);
  }

  Table row(String... cells) {
    if (cells.length != header.size()) {
      throw new IllegalArgumentException("row of " + cells.length + " cells in a table of " + header.size());
    }
    rows.add(List.of(cells));
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  void appendTo(StringBuilder out) {
    line(out, header);
    out.append('|');
    header.forEach(h -> out.append("---|"));
    out.append('\n');
    rows.forEach(r -> line(out, r));
    out.append('\n');
  }

  private static void line(StringBuilder out, List<String> cells) {
    out.append('|');
    cells.forEach(c -> out.append(' ').append(c.replace("|", "\\|")).append(" |"));
    out.append('\n');
  }
}

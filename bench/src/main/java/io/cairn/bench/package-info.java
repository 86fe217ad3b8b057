/**
 * The report side of {@code ./cairn bench}. The scripts in {@code bench/} drive Cairn and its peers and
 * print one JSON line per <em>sample</em>; this package collects them into {@code results.json} and
 * writes {@code report.md} and PNG charts from it. Nouns: a <em>measurement</em> is every sample taken
 * of one quantity (an id such as {@code ingest.restic.seconds}, a unit and the samples in the order
 * taken); a <em>peer</em> is a tool Cairn is compared with in the same run (restic, nginx, ...); an
 * <em>estimate</em> is a median with the range the samples allow; a <em>target</em> is a claim with a
 * threshold whose verdict the report states. Nothing here measures anything.
 */
package io.cairn.bench;

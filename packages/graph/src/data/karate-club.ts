/**
 * Zachary's karate club: 34 members of a university karate club, 78 friendships observed outside the
 * club, and the two factions it split into (Mr. Hi's and the officer's). Source: W. W. Zachary, "An
 * Information Flow Model for Conflict and Fission in Small Groups", Journal of Anthropological Research
 * 33(4):452-473, 1977. This copy is networkx's `karate_club_graph()` (networkx 2.8.8, Debian
 * python3-networkx): nodes 0-33 (Zachary's members 1-34), edge weights from Zachary's matrix C (the
 * number of contexts in which the two members interacted), and networkx's `club` attribute as the
 * factions. `scripts/make-networkx-fixtures.py` prints these arrays from networkx, and the tests compare
 * them with networkx's GML of the same graph.
 */
import type { GraphData } from '../preprocess/graph-data.js';

/** [member, member, contexts of interaction], members numbered 0-33. */
const EDGES: readonly (readonly [number, number, number])[] = [
  [0, 1, 4],
  [0, 2, 5],
  [0, 3, 3],
  [0, 4, 3],
  [0, 5, 3],
  [0, 6, 3],
  [0, 7, 2],
  [0, 8, 2],
  [0, 10, 2],
  [0, 11, 3],
  [0, 12, 1],
  [0, 13, 3],
  [0, 17, 2],
  [0, 19, 2],
  [0, 21, 2],
  [0, 31, 2],
  [1, 2, 6],
  [1, 3, 3],
  [1, 7, 4],
  [1, 13, 5],
  [1, 17, 1],
  [1, 19, 2],
  [1, 21, 2],
  [1, 30, 2],
  [2, 3, 3],
  [2, 7, 4],
  [2, 8, 5],
  [2, 9, 1],
  [2, 13, 3],
  [2, 27, 2],
  [2, 28, 2],
  [2, 32, 2],
  [3, 7, 3],
  [3, 12, 3],
  [3, 13, 3],
  [4, 6, 2],
  [4, 10, 3],
  [5, 6, 5],
  [5, 10, 3],
  [5, 16, 3],
  [6, 16, 3],
  [8, 30, 3],
  [8, 32, 3],
  [8, 33, 4],
  [9, 33, 2],
  [13, 33, 3],
  [14, 32, 3],
  [14, 33, 2],
  [15, 32, 3],
  [15, 33, 4],
  [18, 32, 1],
  [18, 33, 2],
  [19, 33, 1],
  [20, 32, 3],
  [20, 33, 1],
  [22, 32, 2],
  [22, 33, 3],
  [23, 25, 5],
  [23, 27, 4],
  [23, 29, 3],
  [23, 32, 5],
  [23, 33, 4],
  [24, 25, 2],
  [24, 27, 3],
  [24, 31, 2],
  [25, 31, 7],
  [26, 29, 4],
  [26, 33, 2],
  [27, 33, 4],
  [28, 31, 2],
  [28, 33, 2],
  [29, 32, 4],
  [29, 33, 2],
  [30, 32, 3],
  [30, 33, 3],
  [31, 32, 4],
  [31, 33, 4],
  [32, 33, 5],
];

/** The faction of each member 0-33: 0 = 'Mr. Hi', 1 = 'Officer' (networkx's `club`). */
const FACTIONS = '0000000001000011001010111111111111';

export const KARATE_CLUB_FACTIONS = ['Mr. Hi', 'Officer'] as const;

/**
 * The karate club as an undirected GraphData: node keys '0'-'33', node attributes `club` (name) and
 * `faction` (0 or 1, the node-classification label), edge attribute `weight`.
 */
export function karateClub(): GraphData {
  return {
    directed: false,
    multi: false,
    nodes: [...FACTIONS].map((faction, member) => ({
      key: String(member),
      attributes: { club: KARATE_CLUB_FACTIONS[Number(faction)]!, faction: Number(faction) },
    })),
    edges: EDGES.map(([a, b, weight]) => ({ source: String(a), target: String(b), attributes: { weight } })),
    attributes: { name: "Zachary's Karate Club" },
  };
}

"""Writes the networkx oracle fixtures under test/fixtures (run with Debian's /usr/bin/python3 and
python3-networkx 2.8.8; the outputs are committed so tests need no Python):

  karate.gml                 nx.write_gml(nx.karate_club_graph()): club and weight attributes
  random-directed.edgelist   a seeded G(n, p) digraph as `source target weight` lines, isolated nodes alone
  networkx-features.json     networkx's shortest-path lengths, degrees and components of both graphs
and prints the karate club's weighted edges and clubs in the form src/data/karate-club.ts holds them.
"""
import json
import os
import random

import networkx as nx

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


def features(graph, nodes):
    index = {node: i for i, node in enumerate(nodes)}
    n = len(nodes)
    distances = [[-1] * n for _ in range(n)]
    for source, lengths in nx.all_pairs_shortest_path_length(graph):
        for target, length in lengths.items():
            distances[index[source]][index[target]] = length
    directed = graph.is_directed()
    out = {
        'nodes': [str(node) for node in nodes],
        'distances': distances,
        'degree': [graph.degree(node) for node in nodes],
        'inDegree': [graph.in_degree(node) if directed else graph.degree(node) for node in nodes],
        'outDegree': [graph.out_degree(node) if directed else graph.degree(node) for node in nodes],
    }
    weak = nx.weakly_connected_components(graph) if directed else nx.connected_components(graph)
    out['components'] = sorted(sorted(str(node) for node in c) for c in weak)
    if directed:
        out['strongComponents'] = sorted(sorted(str(node) for node in c) for c in nx.strongly_connected_components(graph))
    return out


karate = nx.karate_club_graph()
nx.write_gml(karate, os.path.join(here, 'karate.gml'))

rng = random.Random(7)
digraph = nx.gnp_random_graph(30, 0.05, seed=7, directed=True)
digraph.add_edge(3, 3)  # a self loop
for u, v in digraph.edges():
    digraph[u][v]['weight'] = rng.randint(1, 9) / 4
with open(os.path.join(here, 'random-directed.edgelist'), 'w') as f:
    f.write('# seeded nx.gnp_random_graph(30, 0.05, seed=7, directed=True) plus a self loop on 3\n')
    seen = set()
    for node in digraph.nodes():
        if node not in seen:
            if digraph.degree(node) == 0:
                f.write(f'{node}\n')
            seen.add(node)
        for _, target, data in digraph.out_edges(node, data=True):
            f.write(f'{node} {target} {data["weight"]}\n')
            seen.add(target)

with open(os.path.join(here, 'networkx-features.json'), 'w') as f:
    json.dump({'networkx': nx.__version__, 'karate': features(karate, list(karate.nodes())),
               'randomDirected': features(digraph, list(digraph.nodes()))}, f)

print(' '.join(f'[{u}, {v}, {d["weight"]}],' for u, v, d in karate.edges(data=True)))
print(''.join('0' if karate.nodes[i]['club'] == 'Mr. Hi' else '1' for i in karate.nodes()))

// Browser entry of the GraphiQL page served by src/http/graphiql.ts.
// Bundled with its CSS (fonts inlined as data: URIs) by
// scripts/build-graphiql.mjs, so the page needs nothing from outside the
// middleware: the machines it runs on are offline.
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import './page.css';
import { createRoot } from 'react-dom/client';
import { createCompanionFetcher, endpointUrls } from './fetcher.js';

const DEFAULT_HEADERS = '{"Authorization": "Bearer <paste your API key>"}';
const DEFAULT_QUERY = '{ __typename }\n';

// The page is served at the GraphQL endpoint itself, so the current URL is
// the endpoint (whatever prefix a reverse proxy adds).
const fetcher = createCompanionFetcher(endpointUrls(window.location));

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={DEFAULT_QUERY}
    defaultHeaders={DEFAULT_HEADERS}
    // Keep the API key in localStorage so the user pastes it only once.
    shouldPersistHeaders
    // Open the Headers tab: nothing works until the key is in there.
    defaultEditorToolsVisibility="headers"
  />,
);

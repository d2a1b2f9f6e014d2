// Starts the live parts of a console page (Blazor Interactive Server components: the airlock queue, the overview's
// "needs attention"), loaded after /console/blazor-web.js (which waits for this: autostart="false").
// - The circuit connects to /console/_blazor, where the console's session cookie is sent (its path is /console).
// - Enhanced navigation is off: links and forms stay plain page loads, as on the pages without live parts.
// - The console has no JavaScript initializers: saying so (empty lists, the shape Blazor builds itself) keeps Blazor from
//   fetching _blazor/initializers relative to the page, which from /console or /console/airlock/ID is not the hub's path.
Blazor.start({
  ssr: { disableDomPreservation: true },
  circuit: {
    initializers: { beforeStart: [], afterStarted: [] },
    configureSignalR: function (builder) {
      builder.withUrl('/console/_blazor');
    },
  },
});

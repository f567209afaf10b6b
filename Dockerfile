# PeakWatch all-in-one image: `peakwatch start`, configured only by the environment.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps apps
COPY libs libs
COPY device-sim device-sim
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
# The CJK font the PDF reports embed.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production DATA_DIR=/data SEEDS_DIR=/app/seeds
# One glibc malloc arena: the per-thread arenas keep freed buffers, and under load ingest's peak RSS was about 355 MB
# with the default and 257-273 MB with one arena, at the same throughput (bench:ingest; README "Memory").
ENV MALLOC_ARENA_MAX=1
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY seeds seeds
VOLUME /data
EXPOSE 1883 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/apps/peakwatch/src/main.js", "start"]
